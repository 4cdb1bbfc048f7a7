# bench/validate/hash_churn.pl - a program outside the validation study
# (issue 19): perl hash churn, a 200,000-entry hash of strings, half of it
# deleted and rebuilt three times; runs 0.5 s, longer than the purge
# delays of mimalloc and hakmem.
my %h;
for my $r (1..3) {
    for my $i (1..200000) { $h{"k$i"} = "v" x (8 + $i % 56) . $r; }
    for my $i (1..200000) { delete $h{"k$i"} if $i % 2; }
}
my $s = 0; $s += length($h{$_}) for keys %h;
print scalar(keys %h), " $s\n";
