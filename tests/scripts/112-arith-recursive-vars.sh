x="y + 1"
y=4
echo $((x * 2))
