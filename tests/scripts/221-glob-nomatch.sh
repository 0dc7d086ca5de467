mkdir g && cd g
echo *.none
echo "*.txt"
touch x.txt
echo '*'.txt
