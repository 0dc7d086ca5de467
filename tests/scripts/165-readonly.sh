readonly R=1
echo $R
R=2 2>/dev/null
echo "still $R"
(R=3) 2>/dev/null || echo "subshell failed"
