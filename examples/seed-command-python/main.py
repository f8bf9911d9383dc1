import os
import sys
import json

def main():
    # Get input from arguments
    input_data = json.loads(sys.argv[1])
    
    # Process input
    result = {"message": "Hello " + input_data["name"]}
    
    # Return JSON output
    print(json.dumps(result))

if __name__ == "__main__":
    main()
