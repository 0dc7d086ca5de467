HOME=/home/tester
echo ~ ~/docs
echo "~" '~'
x=~/path
echo $x
