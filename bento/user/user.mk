# bento/user: rules added by its owner.
