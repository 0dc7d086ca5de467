mkdir -p g/sub1 g/sub2 g/file
cd g
touch sub1/x sub2/y
echo */
echo sub*/*
