/// makemime's usage text, printed to stderr for any argument error (exit status 0).
enum MakemimeUsage {
    static let text = """
    Usage:
      makemime -c type [-o file] [-e encoding] [-C charset] [-N name] \\
                       [-a "Header: Contents"] file
               -m [ type ] [-o file] [-e encoding] [-a "Header: Contents"] file
               -j [-o file] file1 file2
               @file

       file:  filename    - read or write from filename
              -           - read or write from stdin or stdout
              &n          - read or write from file descriptor n
              \\( opts \\)  - read from child process, that generates [ opts ]

    Options:

      -c type         - create a new MIME section from "file" with this
                        Content-Type: (default is application/octet-stream).
      -C charset      - MIME charset of a new text/plain section.
      -N name         - MIME content name of the new mime section.
      -m [ type ]     - create a multipart mime section from "file" of this
                        Content-Type: (default is multipart/mixed).
      -e encoding     - use the given encoding (7bit, 8bit, quoted-printable,
                        or base64), instead of guessing.  Omit "-e" and use
                        -c auto to set Content-Type: to text/plain or
                        application/octet-stream based on picked encoding.
      -j file1 file2  - join mime section file2 to multipart section file1.
      -o file         - write ther result to file, instead of stdout (not
                        allowed in child processes).
      -a header       - prepend an additional header to the output.

      @file - read all of the above options from file, one option or
              value on each line.

    """
}
