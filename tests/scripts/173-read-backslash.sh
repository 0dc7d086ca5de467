read x <<< 'a\tb'
echo "$x"
read -r y <<< 'a\tb'
echo "$y"
