exec 3>&1
echo via3 >&3
exec 3>&-
echo done
