mkdir g && cd g
touch b.txt a.txt c.log .hidden.txt
echo *.txt
echo *
echo .*.txt
echo ?.log
