def one_hot(indices, vocab_size):
    codes = np.zeros((len(indices), vocab_size))
    codes[np.arange(len(indices)), indices] = 1.0
    return codes
