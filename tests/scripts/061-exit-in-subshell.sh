(exit 4); echo "sub $?"
echo main
