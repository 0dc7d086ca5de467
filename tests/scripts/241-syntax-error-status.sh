echo start
case x in
echo unreachable
