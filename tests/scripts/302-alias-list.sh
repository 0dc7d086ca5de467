alias b='echo b' a='echo a'
alias
unalias -a
alias
echo empty
