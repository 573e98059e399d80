FROM {{image:unpadded}}
COPY hello.txt /hello.txt
