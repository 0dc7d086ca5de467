echo "$(echo "inner \"quoted\" $(echo deeper)")"
