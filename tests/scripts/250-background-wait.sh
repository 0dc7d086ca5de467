{ echo bg-out; } > bg.txt &
wait
cat bg.txt
