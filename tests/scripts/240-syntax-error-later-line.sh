echo "before error"
echo "second line"
if then fi
echo "never"
