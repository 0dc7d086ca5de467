[[ apple < banana ]] && echo lt
[[ b > a ]] && echo gt
