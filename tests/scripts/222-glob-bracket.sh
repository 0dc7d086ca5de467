mkdir g && cd g
touch a1 a2 b1 c3
echo [ab]1
echo a[0-9]
echo [!a]*
