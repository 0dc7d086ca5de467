echo hello > rw.txt
exec 5<>rw.txt
read -r w <&5
echo "read $w"
exec 5>&-
