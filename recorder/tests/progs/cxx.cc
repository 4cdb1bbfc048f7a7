// cxx: a C++ program: new/delete, containers, strings, exceptions.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include <cstdio>

struct Node { std::string name; std::vector<int> v; };

int main()
{
    std::map<std::string, std::unique_ptr<Node>> m;
    for (int i = 0; i < 20000; i++) {
        auto n = std::make_unique<Node>();
        n->name = "node-" + std::to_string(i);
        n->v.resize(i % 64);
        m[n->name] = std::move(n);
        if (i % 3 == 0)
            m.erase(m.begin());
    }
    int caught = 0;
    for (int i = 0; i < 100; i++) {
        try { throw std::runtime_error("x" + std::to_string(i)); }
        catch (const std::exception &) { caught++; }
    }
    std::printf("cxx: %zu nodes, %d exceptions\n", m.size(), caught);
    return 0;
}
