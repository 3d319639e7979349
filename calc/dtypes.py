"""Element sizes of the supported data types."""
from calc.errors import CalcError

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


def dtype_bytes(dtype: str) -> int:
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise CalcError(f"unknown dtype {dtype!r}; choose one of: {', '.join(DTYPE_BYTES)}") from None
