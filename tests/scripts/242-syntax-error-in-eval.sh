eval 'if true; then'
echo "after eval $?"
