{ echo a; echo b >&2; } &>> log.txt
{ echo c; } &>> log.txt
sort log.txt
