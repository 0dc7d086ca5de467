shopt -q nullglob || echo "nullglob off"
shopt -s nullglob
shopt -q nullglob && echo "nullglob on"
shopt -u nullglob
shopt nullglob
