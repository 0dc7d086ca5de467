echo {a,b,c}
echo pre{x,y}post
echo {a,b}{1,2}
