FROM {{image:busybox}}
COPY hello.txt /hello.txt
