shopt -s expand_aliases
alias greet='echo hello'
greet world
alias ll='greet from ll'
ll
alias greet
unalias greet
greet 2>/dev/null || echo "greet gone $?"
