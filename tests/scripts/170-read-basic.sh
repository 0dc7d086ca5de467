printf 'alpha beta gamma\n' > in.txt
read a b < in.txt
echo "a=$a b=$b"
read -r line < in.txt
echo "line=$line"
