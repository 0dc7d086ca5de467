echo 'sourced_var=42; sf() { echo "in sf $1"; }' > lib.sh
. ./lib.sh
echo $sourced_var
sf arg
source lib.sh
