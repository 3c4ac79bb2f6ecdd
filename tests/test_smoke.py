def test_textbook_example(dezero):
    result = dezero("grad", "square(exp(square(x)))", "--x", "0.5")
    assert result.code == 0
    assert result.stdout == "f = 1.648721270700128\ndf/dx = 3.297442541400256\n"
