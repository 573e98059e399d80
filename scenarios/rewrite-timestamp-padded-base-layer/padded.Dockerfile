FROM {{image:padded}}
COPY hello.txt /hello.txt
