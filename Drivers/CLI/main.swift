print("traverse")
