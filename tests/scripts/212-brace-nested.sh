echo {a,b{1,2},c}
echo x{,y}z
