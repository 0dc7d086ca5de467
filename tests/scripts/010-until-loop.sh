s=
until [ "$s" = aaa ]; do s="${s}a"; echo "$s"; done
