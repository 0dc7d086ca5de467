i=2
a[i*2]=x
echo "${!a[@]}"
