mkdir -p dd
[[ -d dd && ! -f dd ]] && echo dir
[[ -e dd/nothing ]] || echo absent
