// bench/validate/cxx_containers.cc - the C++ program of the validation
// study: std::map, std::unordered_map, std::vector<std::string> and
// std::list built up, partly erased, rebuilt, so node allocations of many
// sizes live long and short.
#include <cstdio>
#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

int main()
{
    std::map<int, std::string> m;
    std::unordered_map<std::string, std::vector<int>> u;
    std::list<std::string> l;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 60000; i++) {
            m[i * 7 + round] = std::string(16 + i % 64, 'x');
            u["key" + std::to_string(i)].push_back(i);
            if (i % 3 == 0)
                l.push_back(std::to_string(i) + "-long-enough-to-spill-sso");
        }
        for (auto it = m.begin(); it != m.end();)
            it = (it->first % 3) ? m.erase(it) : ++it;
        while (l.size() > 5000)
            l.pop_front();
    }
    std::vector<std::string> v;
    for (auto &kv : u)
        v.push_back(kv.first);
    std::printf("%zu %zu %zu %zu\n", m.size(), u.size(), l.size(), v.size());
    return 0;
}
