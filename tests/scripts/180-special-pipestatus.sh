true | false | true
echo "${PIPESTATUS[@]}"
false
echo "${PIPESTATUS[0]}"
