/// mailbot's usage text (printed on a usage error, exit 75).
enum MailbotUsage {
    static let text = """
    Usage: mailbot [ options ] [ $MAILER arg arg... ]

        -t filename        - text autoresponse
        -m filename        - MIME autoresponse (text/plain; format=flowed)
        -c charset         - charset of the -t text
        -T type            - reply, replyall, replydsn, replydraft, forward, forwardatt,
                             feedback, replyfeedback
        -N                 - do not quote the original message
        -M address         - reply with a delivery status notification for address
        -R type            - feedback type (abuse, fraud, other, virus)
        -a                 - attach the entire original (DSN/feedback)
        -e                 - reply to Errors-To:/Return-Path:
        -S salutation      - attribution line (%F writes:)
        -F separator       - forwarded-message separator
        -r addr,addr...    - reply only when one of these is in To:/Cc:
        -d dbfile          - duplicate-suppression database
        -D days            - days between replies to one sender (default 1)
        -s subject         - subject of the reply
        -A "Header: value" - add a header
        -f[address]        - reply to address (alone: $SENDER)
        -l maildir         - draft folder for -T replydraft
        -n                 - print the reply instead of mailing it
        $MAILER arg arg... - run $MAILER (default: sendmail -f '') to mail the reply
    """
}
