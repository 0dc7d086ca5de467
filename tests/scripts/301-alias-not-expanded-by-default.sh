alias hi='echo alias-ran'
hi 2>/dev/null || echo "no alias expansion in scripts"
alias
