FROM {{image:quirky}}
COPY hello.txt /hello.txt
