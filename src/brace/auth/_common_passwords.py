"""Very common passwords (lower-cased), refused as new passwords."""

COMMON_PASSWORDS = frozenset(
    """
    000000 0987654321 102030 111111 11111111 1111111111 111222 112233 11223344 121212 121314
    123123 123321 1234 12341234 12345 123456 1234567 12345678 123456789 1234567890
    1234567890a 123456789a 123456a 123456q 1234qwer 123654 123abc 123qwe 131313 135790 147258
    147258369 159753 1q2w3e 1q2w3e4r 1q2w3e4r5t 1qaz2wsx 1qazxsw2 222222 246810 258456 27653
    333333 444444 55555 555555 5555555 654321 666666 696969 777777 7777777 88888888 987654
    987654321 999999 99999999 a1b2c3 a1b2c3d4 aa123456 aaaaaa abc123 abc12345 abcd1234 abcdef
    access admin admin1 admin123 admin1234 administrator administrator1 amanda andrew angel
    angel1 apple asdf asdf1234 asdfgh asdfghjkl ashley austin baby babygirl banana baseball
    batman biteme brace buster butterfly change-me changeme charlie cheese chelsea chocolate
    computer cookie corvette dallas daniel database default django dragon dragon1 facebook
    fastapi flask flower football football1 fortnite freedom george ginger google guest
    guest123 harley hello hello1 hello123 hockey hunter hunter2 iloveu iloveyou iloveyou1
    internet iphone java javascript jennifer jessica jordan joshua killer klaster letmein
    letmein1 letmein123 linkedin login love love123 lovely loveme maggie master matrix
    matthew michael michelle microsoft minecraft mobilemail mom monkey monkey1 mustang mysql
    naruto nicole office oracle orange p@ssw0rd p@ssword pa55word passw0rd passw0rd1 password
    password1 password12 password123 password1234 pepper pokemon postgres postgresql princess
    princess1 purple python q1w2e3r4 q1w2e3r4t5 qazwsx qq123456 qweasd qweasdzxc qwer1234
    qwerty qwerty1 qwerty12 qwerty123 qwerty1234 qwertyuiop rainbow ranger redis robert
    roblox root root123 samsung secret secret1 secret123 server shadow soccer starwars summer
    sunshine sunshine1 superman sweetheart sweety system taylor temp temp123 test test123
    testing thomas thunder tigger toor trustno1 twitter user user123 welcome welcome1
    welcome123 welcome2 whatever windows yankees youtube zaq12wsx zxcvbnm zxcvbnm123
    """.split()
)
