[ ! -z x ] && echo not
[ a = a -a b = b ] && echo and
[ a = b -o b = b ] && echo or
test 1 -eq 1 && echo test-builtin
[ \( a = a \) ] && echo paren
