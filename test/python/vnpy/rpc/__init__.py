from .client import RpcClient, RemoteException
from .server import RpcServer
