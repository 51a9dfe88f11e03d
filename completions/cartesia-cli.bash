_cartesia_cli_completion() {
    local IFS=$'\n'
    COMPREPLY=( $( env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD COMP_TYPE=$COMP_TYPE \
                   _CARTESIA_CLI_COMPLETE=complete_bash $1 ) )
    return 0
}

complete -o default -F _cartesia_cli_completion cartesia-cli

