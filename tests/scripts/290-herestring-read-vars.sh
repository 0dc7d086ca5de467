read -r first rest <<< "alpha beta gamma"
echo "$first|$rest"
