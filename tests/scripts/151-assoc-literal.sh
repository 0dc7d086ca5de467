declare -A c=([red]=ff0000 [green]=00ff00)
echo ${c[red]} ${c[green]}
for k in $(printf '%s\n' "${!c[@]}" | sort); do echo "$k"; done
