printf -v out '%05d' 42
echo "$out"
