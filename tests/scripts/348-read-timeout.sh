# read -t: a timeout gives a status above 128 and keeps partial input; data in time is read
{ sleep 2; echo late; } | { read -t 0.3 x; echo "status $? x=[$x]"; }
{ printf part; sleep 2; echo rest; } | { read -t 0.3 x; echo "status $? x=[$x]"; }
{ sleep 0.2; echo early; } | { read -t 5 x; echo "status $? x=[$x]"; }
echo now | { read -t 1 x; echo "status $? x=[$x]"; }
read -t abc x < /dev/null; echo "bad timeout: $?"
