# the mask reaches programs the shell starts: touch and mkdir create with it
umask 022
touch open.txt; mkdir opendir
umask 077
touch secret.txt; mkdir secretdir
ls -ld open.txt opendir secret.txt secretdir | cut -c1-10
