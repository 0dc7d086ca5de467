x=val
echo "x=$x \$x \"q\" \\ back"
