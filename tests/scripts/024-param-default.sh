unset u
echo "${u:-default}" "${u-dash}"
e=
echo "[${e:-colon}]" "[${e-nocolon}]"
